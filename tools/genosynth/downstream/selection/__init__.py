"""Selection scans: the statistics (XP-EHH, iHS, PBS) and the ImaGene CNN with its images, simulated training data and network."""
