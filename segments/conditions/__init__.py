"""The condition language of shared/spec/conditions.md: one JSON tree that says "which
contacts", parsed into typed nodes (schema), turned into one SQL query (compiler, to come)
and into a sentence (explain, to come)."""
