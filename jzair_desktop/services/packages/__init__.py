"""County and city data packages: building, signing, reading and importing them (the six modules of this package)."""
