# Yishi (议事) as a container: `docker compose up -d` (compose.yaml), or
#   docker build -t yishi . && docker run --env-file .env -v yishi-data:/var/lib/yishi yishi
# README.md, "Operating Yishi", says how to run and upgrade it.

# One Python for both stages, the minor version pyproject.toml's requires-python names, on the
# Debian release whose packages (the CJK font, pg_dump) the runtime stage installs.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: install the project from the source tree, as the README does, into a venv ---------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/yishi
# Only what the package is built from (.dockerignore keeps the rest out of the context).
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY storage ./storage
COPY locales ./locales
COPY channels ./channels
COPY emulators ./emulators
# A regular (not editable) install: the runtime stage gets the built package (its bytecode
# compiled here, as root can write it), not the source.
RUN /opt/yishi/bin/pip install --no-cache-dir .

# --- runtime ---------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# The weekly digest chart labels grids in Chinese only with a CJK font. fonts-noto-cjk is what
# the chart looks for first (91 MB installed); --build-arg CJK_FONT=fonts-wqy-microhei gives
# a 5 MB font the chart also uses.
ARG CJK_FONT=fonts-noto-cjk

# tini: PID 1 that forwards SIGTERM to yishi and reaps children (pg_dump for backups).
# postgresql-client-15: pg_dump/pg_restore for backups; its major version is the one of the
# PostgreSQL server in compose.yaml (pg_dump refuses a newer server).
# Not pinned to Debian versions (DL3008): the point of rebuilding is to take the release's
# security updates, and a pinned version vanishes from the archive when one is published.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        "${CJK_FONT}" \
        postgresql-client-15 \
        tini \
    && rm -rf /var/lib/apt/lists/*

# A dedicated user without a login shell; the data directory (the working directory: the
# SQLite database, a .env if one is put there) is a volume owned by it.
RUN groupadd --system --gid 10001 yishi \
    && useradd --system --uid 10001 --gid yishi --create-home --home-dir /home/yishi \
        --shell /usr/sbin/nologin yishi \
    && install -d -o yishi -g yishi -m 0750 /var/lib/yishi

COPY --from=build /opt/yishi /opt/yishi

# No secrets here: TELEGRAM_BOT_TOKEN and the rest come from the environment at run time
# (compose's env_file, docker run --env-file), never from the image. matplotlib keeps its font
# list in the user's home, which the image builds below.
ENV PATH=/opt/yishi/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/home/yishi/.cache/matplotlib \
    DATABASE_URL=sqlite+aiosqlite:////var/lib/yishi/yishi.db

# Numeric, so a runtime that checks runAsNonRoot (Kubernetes) can tell it is not root.
USER 10001:10001
WORKDIR /var/lib/yishi

# Fail the build, not the first Monday digest, when the font is missing; and build
# matplotlib's font list now (scanning the CJK font takes seconds) in the user's cache.
RUN python -c "from bot.services.reports.digest_chart import cjk_font; assert cjk_font(), 'no CJK font'" \
    && yishi --version

VOLUME ["/var/lib/yishi"]

# yishi stops gracefully on SIGTERM: the running handlers finish, then the sends in flight,
# for at most 10 s; give it 30 s (compose.yaml: stop_grace_period) before SIGKILL.
STOPSIGNAL SIGTERM

# Alive: the bot's own /healthz answers (its event loop runs; a hung process is unhealthy) on
# the health listener (YISHI_HEALTH_LISTEN, 127.0.0.1:9464 by default; keep it on in the
# container). Readiness (the database, the lease, Telegram) is /readyz, for an orchestrator.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('YISHI_HEALTH_LISTEN', '127.0.0.1:9464').rsplit(':', 1)[1]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]

ENTRYPOINT ["tini", "--", "yishi"]
CMD ["run"]
