# Small, pinned, non-root image for the API and the worker (same image, other command).
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 app
WORKDIR /app

COPY pyproject.toml README.md ./
COPY server ./server
COPY rest ./rest
COPY graphql_api ./graphql_api
COPY jobs ./jobs
COPY models ./models
COPY migrations ./migrations
RUN pip install --no-compile . && rm -rf /root/.cache

USER app
EXPOSE 8000
CMD ["canvas-workspace", "serve", "--host", "0.0.0.0", "--port", "8000"]
