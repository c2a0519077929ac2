"""Quality checks: text rules (length, hook, grade, PII, brand, citations) and media checks."""
