"""Every topic of the incumbent's documentation map has a home in this site.

``DOCS_MAP`` is the table of contents users of django-aws-api-gateway-websockets know
(its "Documentation map" and section headings), each with the page, and where it matters
the section, that covers it here. A topic's home is a heading of the page, or a term of
a definition list on it. A page that is renamed or a section that is dropped fails here.
"""

import re

import pytest

from .rst import headings, page, pages

#: incumbent topic -> (our page, our heading or definition term, or None for the page)
DOCS_MAP = {
    # Getting started
    "Exposition": ("index", "How it works"),
    "Quickstart": ("quickstart", None),
    "Concepts": ("concepts", None),
    "Installation": ("installation", None),
    "Compatibility": ("compatibility", None),
    "Configuration": ("settings", None),
    "Settings": ("settings", "Keys"),
    # AWS setup
    "AWS IAM Setup": ("aws-setup", "AWS IAM setup"),
    "API Gateway Setup": ("aws-setup", "API Gateway setup"),
    "Adding new routes": ("aws-setup", "Adding new routes"),
    "Set up a custom domain": ("aws-setup", "Custom domains and DNS"),
    "Configure cookies for subdomains": ("aws-setup", "Cookies for subdomains"),
    "Testing the setup": ("aws-setup", "Testing the setup"),
    "Django Admin": ("aws-setup", "Django admin"),
    # Usage
    "Client integration": ("client", None),
    "Using reconnecting-websocket": ("client", "Using reconnecting-websocket"),
    "Templates and mixins": ("client", "Templates and mixins"),
    "WebSocket tokens": ("tokens", None),
    "Message patterns": ("sending", "Message patterns"),
    "Reference": ("api", None),
    "Full chat room example": ("chat-example", None),
    "Management Commands": ("commands", None),
    "Clean-up": ("cleanup", None),
    # Security and operations
    "Security": ("security", None),
    "OWASP Top 10 alignment": ("security", "OWASP Top 10 alignment"),
    "CSRF considerations": ("security", "CSRF"),
    "Reporting vulnerabilities": ("security", "Reporting vulnerabilities"),
    "Permissions": ("permissions", None),
    "Rate limiting": ("rate-limiting", None),
    "Deployment": ("deployment", None),
    "Production checklist": ("deployment", "Production checklist"),
    "Local development": ("local-development", None),
    "Troubleshooting": ("troubleshooting", None),
    "Testing": ("testing", None),
    "Upgrade guide": ("migrating", None),
    # Project
    "Architecture": ("architecture", None),
    "Architecture diagram": ("architecture", "High-level architecture"),
    "Contributing": ("contributing", None),
    "Release process": ("release", None),
    "Release checklist": ("release", "Release checklist"),
    "FAQ": ("faq", None),
    "License": ("license", None),
    "Changelog": ("changelog", None),
    "API reference": ("api", None),
    # What the docs map lacks and we have
    "Hooks reference": ("hooks", None),
    "Writing plugins": ("writing-plugins", None),
    "Benchmarks": ("benchmarks", None),
}

#: Sections of the incumbent's pages that must each have a heading or term of ours.
SECTIONS = {
    "concepts": [
        "Overview",
        "API Gateway",
        "WebSocket API",
        "Route",
        "Route key",
        "Route selection expression",
        "Action",
        "Handler",
        "Handler selection key",
        "Target base endpoint",
        "Connection ID",
        "WebSocket session",
        "Channel",
        "Channels are not authorization",
        "WebSocket token",
        "Unicast",
        "Multicast",
        "Broadcast",
        "API Gateway record",
        "Additional route",
        "Stage",
        "Custom domain",
        "Putting the concepts together",
        "Common confusion",
        "Related pages",
    ],
    "compatibility": [
        "Supported Python versions",
        "Supported Django versions",
        "Recommended versions",
        "Compatibility matrix",
        "AWS compatibility",
        "AWS credentials",
        "Browser compatibility",
        "Documentation build compatibility",
        "Package dependencies",
        "Testing compatibility",
        "Upgrade guidance",
        "Support policy",
        "Related pages",
    ],
    "troubleshooting": [
        "General checklist",
        "Connection fails immediately",
        "Django returns bad request",
        "Messages always go to the default handler",
        "Custom route is not called",
        "WebSocket token request fails",
        "WebSocket token is rejected during connection",
        "Rate limit exceeded",
        "User is anonymous unexpectedly",
        "Permission denied",
        "Messages are not received by the browser",
        "GoneException when sending messages",
        "Messages fail because they are too large",
        "Local development does not work",
        "Custom domain does not work",
        "API Gateway creation fails",
        "Management command cannot send or create resources",
        "Debugging WebSocket views",
        "Cleanup problems",
        "Getting more information",
        "Related pages",
    ],
    "deployment": [
        "Deployment overview",
        "Typical architecture",
        "Production checklist",
        "Django settings",
        "AWS credentials",
        "API Gateway deployment",
        "Client reconnect strategy",
        "Scheduled cleanup",
        "Logging and monitoring",
        "Database considerations",
        "Environment separation",
        "Rolling deployments",
        "Blue/green and multi-instance deployments",
        "Deployment smoke test",
        "Troubleshooting",
        "Related pages",
    ],
    "migrating": [
        "Before upgrading",
        "Recommended upgrade process",
        "Upgrade checklist",
        "Staging validation",
        "Production rollout",
        "Common upgrade problems",
    ],
    "release": [
        "Overview",
        "Use semantic versioning",
        "Release checklist",
        "Common release problems",
        "Related pages",
    ],
}


def homes(name):
    """The headings of a page and the terms of its definition lists."""
    text = page(name)
    terms = re.findall(r"^(?:   )?(\S[^\n]*)\n {3,6}\S", text, re.MULTILINE)
    return set(headings(text)) | {t.strip() for t in terms}


def in_toctree():
    index = page("index")
    return {
        line.strip()
        for block in index.split(".. toctree::")[1:]
        for line in block.splitlines()[1:]
        if line.startswith("   ") and not line.strip().startswith(":")
    }


@pytest.mark.parametrize("topic", sorted(DOCS_MAP))
def test_every_docs_map_topic_has_a_page_in_the_toctree(topic):
    name, heading = DOCS_MAP[topic]
    assert name in pages(), f"{topic}: no docs/{name}.rst"
    assert name == "index" or name in in_toctree(), f"{topic}: {name} is in no toctree"
    if heading:
        assert heading in homes(name), f"{topic}: no section {heading!r} in {name}"


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_every_section_of_the_incumbents_page_has_a_home(name):
    missing = [s for s in SECTIONS[name] if s not in homes(name)]
    assert missing == []


def test_every_page_is_reachable_from_the_index():
    assert set(pages()) - {"index"} - in_toctree() == set()
