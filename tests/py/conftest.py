"""Shared fixtures of pyharness's own tests (the ``net`` fixture comes from the plugin)."""

pytest_plugins = ["pytester"]
