"""Statistical disclosure control: policies, cell suppression, and the release of result tables."""
