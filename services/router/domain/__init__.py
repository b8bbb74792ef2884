"""Router domain: qualification rules, routing policies, decisions. No I/O, no frameworks."""
