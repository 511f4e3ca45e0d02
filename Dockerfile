# workplace-occupancy: one image for the ingester, the dashboard and the CLI jobs
# (migrate, building load, analyze, export). See docs/deploy.md.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Pango and a font for the weekly PDF report (WeasyPrint; docs/integrations.md).
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY occupancy ./occupancy
COPY ingest ./ingest
COPY analytics ./analytics
COPY dashboard ./dashboard
COPY sensors_sim ./sensors_sim
COPY api ./api
COPY notify ./notify
COPY examples ./examples
RUN pip install . && useradd --system --uid 10001 --home /app occupancy
USER occupancy

EXPOSE 8050 9108
ENTRYPOINT ["occupancy"]
CMD ["--help"]
