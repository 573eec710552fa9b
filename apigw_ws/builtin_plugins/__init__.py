"""Plugins that ship inside ``apigw_ws``; each module is one plugin of hook implementations."""
