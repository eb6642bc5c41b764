# The l2c image: one image for the API, the workers and the one-shot commands
# (`l2c migrate`, `l2c users add ...`). Used by docker-compose.yml.
#
#   docker build -t l2c .
#   docker run --rm -e DATABASE_URL=... -e TEMPORAL_ADDRESS=... -e L2C_SECRET_KEY=... l2c

# --- build: install l2c and its dependencies into a virtualenv --------------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/l2c
WORKDIR /src
# The repository as .dockerignore leaves it (no .git, .venv, .l2c, .env, caches, build/).
COPY . .
RUN /opt/l2c/bin/pip install .

# --- runtime: the virtualenv only, run as an unprivileged user ---------------------------
FROM python:3.11-slim

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
USER l2c
# A home of its own: no .env is read from here and nothing writes next to the code.
WORKDIR /home/l2c

EXPOSE 8000
# Python handles SIGINT (KeyboardInterrupt): the worker drains and the API shuts down
# cleanly; SIGTERM to a Python PID 1 without a handler would wait for the SIGKILL.
STOPSIGNAL SIGINT
CMD ["l2c", "api"]
