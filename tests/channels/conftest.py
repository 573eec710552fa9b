import pytest

CHANNELS_PLUGIN = "apigw_ws.builtin_plugins.channels"


@pytest.fixture
def channel_plugins(settings):
    """List the given plugins after the suite's own; return a function to change CHANNELS."""
    base = dict(settings.APIGW_WS)

    def configure(*plugins, **channels):
        settings.APIGW_WS = {
            **base,
            "PLUGINS": [*base["PLUGINS"], *plugins],
            "CHANNELS": channels,
        }

    return configure


@pytest.fixture
def with_channels(channel_plugins):
    channel_plugins(CHANNELS_PLUGIN)
    return channel_plugins
