#!/usr/bin/env bash
# Regenerates src/io/onnx/onnx_pb.ts from src/io/onnx/onnx.proto (the official ONNX schema, copied
# from ONNX 1.12's onnx/onnx.proto; Debian's python3-onnx ships it). Needs protoc (Debian:
# protobuf-compiler) and fetches protoc-gen-es into a temporary folder: neither is a dependency of
# zerodl, which needs only the @bufbuild/protobuf runtime. Run after replacing onnx.proto.
set -euo pipefail
cd "$(dirname "$0")/../src/io/onnx"
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
npm install --silent --prefix "$tools" --no-audit --no-fund @bufbuild/protoc-gen-es@2.17.0
protoc --plugin=protoc-gen-es="$tools/node_modules/.bin/protoc-gen-es" --es_out=. \
  --es_opt=target=ts,import_extension=js onnx.proto
echo "wrote src/io/onnx/onnx_pb.ts"
