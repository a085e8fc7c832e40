"""How notes connect: one vector per note, related notes, topics, near-duplicates, the map."""
