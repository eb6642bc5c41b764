# The l2c image: API, worker and one-shot commands (migrate, users add).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    L2C_API_HOST=0.0.0.0
WORKDIR /app
COPY . /app
RUN pip install . && useradd --system --uid 10001 --home /app l2c
USER l2c
EXPOSE 8000
CMD ["l2c", "api"]
