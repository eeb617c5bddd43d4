"""The project app has no tables; this module exists so that Django sends it post_migrate (roles)."""
