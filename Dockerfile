# ammp-agent as a container image: the compiled agent on a distroless base.
#
#   docker build --build-arg REVISION="$(git rev-parse --short=12 HEAD)" \
#     --build-arg SOURCE="$(git remote get-url origin)" -t ammp-agent .
#   docker run --rm -p 127.0.0.1:2667:2667 -e MQTT_URL=mqtt://broker:1883 ammp-agent
#
# Records go to the container's stdout (or OUTPUT_FILE), logs to its stderr.

# Stage "build": the official Deno image, pinned to the Deno version the
# agent is tested with, compiles the agent into one executable for the
# architecture the image is built for (x86_64 or aarch64), with the agent's
# permission set baked in. Nothing of this stage but the executable is kept.
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock main.ts ./
COPY src/ src/
COPY scripts/ scripts/
# The source revision for --version and ammp_agent_build_info; the build
# context carries no .git folder, so it is passed in.
ARG REVISION=
RUN target="$(uname -m)-unknown-linux-gnu" \
 && deno task compile --target "$target" ${REVISION:+--revision "$REVISION"} \
 && cp "dist/ammp-agent-$target" /ammp-agent \
 && mkdir -m 0750 /state

# Stage "runtime": distroless "cc" holds the C runtime the executable links
# against, CA certificates and time zones, and nothing else: no shell, no
# package manager. The agent runs as uid and gid 65532 (its nonroot user),
# named by number so that Kubernetes' runAsNonRoot can verify it.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /ammp-agent /usr/local/bin/ammp-agent
# Where OUTPUT_FILE, DEAD_LETTER_FILE and any later state go when they are
# files: a volume the agent's user owns. By default nothing is written there.
COPY --from=build --chown=65532:65532 /state /var/lib/ammp-agent
VOLUME ["/var/lib/ammp-agent"]
# What the image is: OCI labels. The version is deno.json's (a test checks
# the default); the revision and the source come from the build command.
ARG VERSION=0.1.0
ARG REVISION=
ARG SOURCE=
LABEL org.opencontainers.image.title="ammp-agent" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$REVISION" \
      org.opencontainers.image.source="$SOURCE"
# Listen on every address of the container, so that a published port
# reaches /metrics; the drain on SIGTERM ends within docker stop's 10 s.
ENV METRICS_LISTEN=0.0.0.0:2667 \
    SHUTDOWN_TIMEOUT_SECONDS=8
EXPOSE 2667
USER 65532:65532
# The image has no curl: the agent asks its own /readyz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/ammp-agent", "healthcheck"]
# The agent runs as PID 1 and handles SIGTERM and SIGINT itself: it stops
# taking messages, writes and acknowledges what it took, and exits 0.
ENTRYPOINT ["/usr/local/bin/ammp-agent"]
