"""Use cases shared by every transport and worker; they know nothing of HTTP or GraphQL."""
