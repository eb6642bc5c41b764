# The l2c image: one image for the API, the workers and the one-shot commands
# (`l2c migrate`, `l2c users add ...`). Used by docker-compose.yml.
#
#   docker build -t l2c:0.1.0 .
#   docker run --rm -e DATABASE_URL=... -e TEMPORAL_ADDRESS=... -e L2C_SECRET_KEY=... l2c:0.1.0
#
# l2c is installed without its `dev` extra: no Temporal CLI / dev server and no embedded
# PostgreSQL in the image (`l2c dev` is for a developer's machine; servers use real ones).

# One pinned base for both stages (bump it deliberately, for security fixes).
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# --- build: install l2c and its dependencies into a virtualenv --------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/l2c
WORKDIR /src
# The repository as .dockerignore leaves it (no .git, .venv, .l2c, .env, caches, build/).
COPY . .
RUN /opt/l2c/bin/pip install .

# --- runtime: the virtualenv only, run as an unprivileged user ---------------------------
FROM ${PYTHON_IMAGE}

ENV PATH=/opt/l2c/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    L2C_API_HOST=0.0.0.0 \
    L2C_API_PORT=8000

COPY --from=build /opt/l2c /opt/l2c
# DejaVu Sans: embedded in the PDFs l2c writes, which PDF/A (Factur-X invoices) requires.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 --user-group l2c
USER 10001:10001
# A home of its own: no .env is read from here and nothing writes next to the code.
WORKDIR /home/l2c

EXPOSE 8000
# The API's probe (database and Temporal reachable); compose turns it off for the workers.
HEALTHCHECK --interval=15s --timeout=10s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('L2C_API_PORT', '8000'), timeout=5)"]
# Python handles SIGINT (KeyboardInterrupt): the worker drains and the API shuts down
# cleanly; SIGTERM to a Python PID 1 without a handler would wait for the SIGKILL.
STOPSIGNAL SIGINT
CMD ["l2c", "api"]
