"""Infrastructure every domain relies on (private): atomic outputs, errors, progress, option validators, devices and provenance."""
