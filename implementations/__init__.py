"""Built-in backends; each module is a pluggy plugin registered through an entry point."""
