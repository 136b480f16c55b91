# syntax=docker/dockerfile:1
# One image for every salesproject service: web (gunicorn), worker, beat and watcher.
# docker-compose.yml picks the command; the default starts the web server.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DJANGO_SETTINGS_MODULE=salesproject.settings.production

# Match these to the owner of a host folder bind-mounted as the bucket or logs.
ARG APP_UID=1000
ARG APP_GID=1000
RUN groupadd --system --gid "${APP_GID}" django \
    && useradd --system --uid "${APP_UID}" --gid django --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin django

WORKDIR /app

# Requirements first: this layer is rebuilt only when requirements.txt changes. The app's
# packages only: the test and lint tools (requirements-dev.txt) stay out of the image.
COPY requirements.txt .
RUN pip install -r requirements.txt

# The code stays owned by root: the app user can read it, not change it.
COPY . .

# collectstatic imports the production settings, which refuse to load without a
# secret. This key exists only for this one command; it is not kept in the image
# environment and signs nothing.
RUN DJANGO_SECRET_KEY=collectstatic-only-build-time-placeholder-not-used-at-runtime \
    DJANGO_ALLOWED_HOSTS=localhost \
    LOG_DIR=/tmp/build-logs \
    python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-logs bucket logs \
    && mkdir -p bucket logs media \
    && chown django:django bucket logs media \
    && chmod 0755 docker/start-web.sh

# Numeric, so a runtime can verify the container is not root without reading /etc/passwd.
USER ${APP_UID}:${APP_GID}

EXPOSE 8000

CMD ["/app/docker/start-web.sh"]
