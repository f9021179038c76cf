# Small, pinned, non-root image for the API and the worker (same image, other command).
# The base image is pinned by digest. No registry was reachable where this was written:
# the digest is the one public repositories pin for this tag (a Renovate-kept digest file
# among them), not read from Docker Hub here. Check or update it with
#   docker buildx imagetools inspect python:3.11.7-slim-bookworm
FROM python:3.11.7-slim-bookworm@sha256:d11b9bd5e49ea7401753d78f4d3b56f3aec952b85b49bcae88981f0452818e0b

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 app
WORKDIR /app

# Dependencies from the runtime lock (versions and hashes), in their own layer; then the
# project itself, resolving nothing.
COPY requirements/runtime.lock ./requirements/runtime.lock
RUN pip install --no-compile --require-hashes -r requirements/runtime.lock
COPY pyproject.toml README.md ./
COPY server ./server
COPY rest ./rest
COPY graphql_api ./graphql_api
COPY jobs ./jobs
COPY models ./models
COPY migrations ./migrations
RUN pip install --no-compile --no-deps . && rm -rf /root/.cache

USER app
EXPOSE 8000
CMD ["canvas-workspace", "serve", "--host", "0.0.0.0", "--port", "8000"]
