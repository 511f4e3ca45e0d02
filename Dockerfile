# workplace-occupancy: one image for the ingester, the dashboard and the CLI jobs
# (migrate, building load, analyze, export). See docs/deploy.md.
# BASE: any Debian 12 image with Python 3.11 and python3-venv. The default comes
# from the registry; scripts/build-images.sh builds one from Debian packages for
# machines without a registry (--build-arg BASE=localhost/occupancy-python:...).
ARG BASE=python:3.11.11-slim-bookworm
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH

WORKDIR /app
# Pango and a font for the weekly PDF report (WeasyPrint; docs/integrations.md).
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
# Exact versions from the lock file (scripts/lock.sh), in their own layer.
# PIP_OPTIONS: e.g. "--no-index --find-links /wheels" with a wheel folder mounted
# at build time (scripts/build-images.sh does, for machines whose TLS to PyPI is
# intercepted); empty: from PyPI.
ARG PIP_OPTIONS=""
COPY requirements.lock ./
# urllib3-future (via caldav -> niquests) would copy itself over urllib3 at every
# start and break requests: drop its hook and keep the locked urllib3.
RUN python3 -m venv /opt/venv && pip install -q $PIP_OPTIONS -r requirements.lock \
    && rm -f /opt/venv/lib/python3*/site-packages/urllib3_future.pth \
    && pip install -q $PIP_OPTIONS --force-reinstall --no-deps \
       "$(grep -E '^urllib3==' requirements.lock)"
COPY pyproject.toml README.md ./
COPY app ./app
COPY occupancy ./occupancy
COPY ingest ./ingest
COPY analytics ./analytics
COPY dashboard ./dashboard
COPY sensors_sim ./sensors_sim
COPY api ./api
COPY notify ./notify
COPY examples ./examples
RUN pip install -q $PIP_OPTIONS --no-deps . && useradd --system --uid 10001 --home /app occupancy
USER occupancy

EXPOSE 8050 9108
ENTRYPOINT ["occupancy"]
CMD ["--help"]
