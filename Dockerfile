# The engine image (kapture-engine:latest) that manifests/ and a distributed
# run's worker Job (`workers: N`, --target kubernetes) use:
#
#   docker build -t kapture-engine:latest .
#
# Built from the same Debian 12 packages as scripts/install-deps; the run
# stage has only the shared libraries the binary links, the Lua library
# (/usr/share/kapture/lua, which a scenario's `lua:` path reaches from the
# worker's ConfigMap at /usr/share/kapture/run), the shipped scenarios and
# manifests. It runs as an unprivileged numeric user (the Job's pods ask
# for runAsNonRoot and a read-only root filesystem).
FROM debian:12 AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      g++ cmake make pkg-config \
      libluajit-5.1-dev libyaml-cpp-dev librdkafka-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev \
      doctest-dev libhiredis-dev libpqxx-dev libcpp-httplib-dev libcurl4-openssl-dev libhttp-parser-dev libnghttp2-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release >/dev/null \
    && cmake --build /build --target kapture-engine -j "$(nproc)"

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libluajit-5.1-2 libyaml-cpp0.7 librdkafka1 libspdlog1.10 libfmt9 libhiredis0.14 libpqxx-6.4 libpq5 \
      libcpp-httplib0.11 libcurl4 libhttp-parser2.9 libnghttp2-14 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/kapture-engine /usr/local/bin/kapture-engine
COPY lua /usr/share/kapture/lua
COPY scenarios /usr/share/kapture/scenarios
COPY manifests /usr/share/kapture/manifests
WORKDIR /usr/share/kapture
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kapture-engine"]
