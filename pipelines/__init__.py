"""aispend's pipeline: source readers, pricing, transforms, and the Dagster wiring around them."""
