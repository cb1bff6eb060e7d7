"""The evidence log: an append-only, hash-chained record of what gallra did."""
