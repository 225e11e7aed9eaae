"""Readers and writers of the file formats genosynth exchanges with other tools (VCF/BCF, .hapt)."""
