"""Conformance scenarios (a package, so test files in different folders may share a name)."""
