"""Use cases over storage. Each owns its transaction and its permission check. No Qt."""
