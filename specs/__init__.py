"""Machine-readable specs, one TOML file per family; loaded by conformance.spec.loader."""
