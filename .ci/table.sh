# Sourced by .ci/arm64 and .ci/aot: what both need to run the platform table (Pure.Properties/Reference/platform-runs.txt).
table=Pure.Properties/Reference/platform-runs.txt

# table_subset DIR: the table's 1000-image Fashion-MNIST subset, as PlatformRunsTests writes it: the first 1000 images and
# labels of the bundled test set with their IDX headers' counts set to 1000, as DIR/fashion-1k-{images,labels}.idx.
table_subset() {
  local fm=data/fashion_mnist
  # (head closes the pipe early, hence "|| true"; the sizes are checked instead.)
  { printf '\x00\x00\x08\x03\x00\x00\x03\xe8\x00\x00\x00\x1c\x00\x00\x00\x1c'; gzip -dc "$fm/t10k-images-idx3-ubyte.gz" | tail -c +17 | head -c 784000 || true; } >"$1/fashion-1k-images.idx"
  { printf '\x00\x00\x08\x01\x00\x00\x03\xe8'; gzip -dc "$fm/t10k-labels-idx1-ubyte.gz" | tail -c +9 | head -c 1000 || true; } >"$1/fashion-1k-labels.idx"
  [ "$(wc -c <"$1/fashion-1k-images.idx")" -eq 784016 ] && [ "$(wc -c <"$1/fashion-1k-labels.idx")" -eq 1008 ] \
    || { echo "could not cut the 1000-image Fashion-MNIST subset from $fm"; return 1; }
}

# table_args DIR ARGS: a row's arguments with {fashion-1k-images} and {fashion-1k-labels} pointing into DIR.
table_args() {
  local a=${2//\{fashion-1k-images\}/$1/fashion-1k-images.idx}
  echo "${a//\{fashion-1k-labels\}/$1/fashion-1k-labels.idx}"
}

# The parameter hash: the first "sha256" after the record's "parameters" key (the data set's own sha256 comes earlier).
hash_of() { sed -n '/^  "parameters": {/,/}/s/.*"sha256": *"\([0-9a-f]\{64\}\)".*/\1/p' "$1" | head -n 1; }
