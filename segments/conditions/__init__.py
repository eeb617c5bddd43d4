"""The condition language of shared/spec/conditions.md: one JSON tree that says "which
contacts", parsed into typed nodes (schema), turned into one SQL predicate (compiler),
into a sentence (explain), and into what it reads (reads)."""
