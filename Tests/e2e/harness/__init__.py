"""Support code for Kanaria's end-to-end tests: fake upstreams, the proxy under test, raw HTTP helpers."""
