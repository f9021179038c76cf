"""Application core shared by every transport and worker."""
