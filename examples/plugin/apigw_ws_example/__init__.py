"""An example ``apigw_ws`` plugin package; the hook implementations are in ``plugin``."""
