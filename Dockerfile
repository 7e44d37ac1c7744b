# coffer's container image: one static binary on an empty base, run as a
# non-root user, its data in the /data volume.
#
#   podman build -t coffer \
#     --build-arg VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg CREATED="$(git log -1 --format=%cI)" .
#   podman run -d --name coffer -p 8200:8200 -v coffer-data:/data localhost/coffer
#   podman logs coffer     # the root token, once; the installation CA's path
#
# The build needs the network for the Go module proxy only (GOPROXY; set
# GOPROXY=off with the module cache mounted at /go/pkg/mod to build
# offline), and no shell: contrib/imagebuild does the build stage's work.

ARG GO_IMAGE=docker.io/library/golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
ARG GOPROXY=https://proxy.golang.org,direct
ARG VERSION=devel
ARG REVISION=unknown
ARG CREATED=unknown
ENV GOPROXY=${GOPROXY} GOFLAGS=-mod=readonly CGO_ENABLED=0
WORKDIR /src
COPY go.mod go.sum ./
RUN ["go", "mod", "download"]
COPY . .
# Links VERSION, REVISION and CREATED into the binary (coffer version, the
# Server header, coffer_build_info), as the labels below carry them.
RUN ["go", "run", "./contrib/imagebuild", "/out"]

FROM scratch
ARG VERSION=devel
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="coffer" \
      org.opencontainers.image.description="Self-hosted secret manager: OVHcloud Secret Manager and Vault KV v2 APIs" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY --from=build /out/coffer /coffer
COPY --from=build --chown=65532:65532 /out/data /data
# A user of its own, not root, no shell, nothing else in the image.
USER 65532:65532
# Every setting of docs/configuration.md can be given as COFFER_*: these
# make the server listen on every interface, with TLS from an installation
# CA kept in /data (its certificate, /data/ca.pem, is what clients trust)
# unless COFFER_TLS_CERT and COFFER_TLS_KEY name a certificate.
ENV COFFER_LISTEN=0.0.0.0:8200 \
    COFFER_DATA_DIR=/data \
    COFFER_TLS_AUTO=true
VOLUME ["/data"]
EXPOSE 8200
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 CMD ["/coffer", "healthcheck"]
ENTRYPOINT ["/coffer"]
CMD ["server"]
