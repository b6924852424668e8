"""Dialogs: each returns a typed value through dismiss()."""
