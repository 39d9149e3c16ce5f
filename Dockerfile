# The gait-regress GitHub Action image: a static gait binary and CA roots on
# an empty base. The release workflow builds it for linux/amd64 and
# linux/arm64 and publishes it; action.yml runs the published image as
# `gait action regress`.
#
# The builder is pinned by digest (update the tag and digest together); the
# final stage is `scratch`, which is empty and has nothing to pin.
FROM --platform=$BUILDPLATFORM golang:1.26@sha256:3aff6657219a4d9c14e27fb1d8976c49c29fddb70ba835014f477e1c70636647 AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Cross-compile on the build platform: CGO is off, so no emulation is needed.
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/gait ./cmd/gait

FROM scratch
# CA roots for the GitHub API (pull request comments); nothing else.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/gait /gait
# No USER: GitHub runs Docker actions as root and documents that a USER
# instruction breaks access to GITHUB_WORKSPACE and the runner's files.
ENTRYPOINT ["/gait"]
