"""Templates: files, rendering in a sandbox, fuzzy search and suggestions (no store, no UI)."""
