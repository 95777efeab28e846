/**
 * Stand-ins on PATH for the tools a CI example calls that cannot run on the test machine, so the example's shell
 * text runs unchanged:
 *
 * - `countersign`: the checkout's built CLI (`node dist/cli/main.js`), instead of the npm package;
 * - `npm`: accepts only `npm install -g countersign[@version]` (the examples' install step) and does nothing, since
 *   the stand-in above is already on PATH; the test has no network and must run this checkout's CLI;
 * - `docker`: no daemon here. `login` writes `~/.docker/config.json` (or `$DOCKER_CONFIG`) as docker does, `build -t`
 *   records the tag, `push` copies the image prepared by {@link CIStandIns.prepareImage} to the registry with
 *   skopeo (a real registry client; the digest is preserved), `inspect --format='{{index .RepoDigests 0}}'` prints
 *   `repository@digest` of what was pushed;
 * - `trivy`: `trivy image --format cyclonedx --output FILE IMAGE` checks the image is readable with
 *   `TRIVY_USERNAME`/`TRIVY_PASSWORD` (skopeo inspect) and writes a small CycloneDX document naming its digest.
 *
 * Every call is appended to a log ({@link CIStandIns.calls}) so tests can see which stand-ins ran.
 */
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { tinyImage } from './oci-image.js'

/** The stand-ins of one test file. */
export interface CIStandIns {
  /** Put first on PATH. */
  readonly binDir: string
  /**
   * Make the next `docker build` + `docker push` publish a tiny image holding `text` (use something unique per run,
   * so every run signs a fresh digest); returns that digest.
   */
  prepareImage(text: string): Promise<string>
  /** Every stand-in call so far, e.g. `npm install -g countersign@0.1`. */
  calls(): string[]
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`

/** Create the stand-ins under `dir`; `cliMain` is the built CLI entry (dist/cli/main.js). */
export function createCIStandIns(dir: string, cliMain: string): CIStandIns {
  const binDir = join(dir, 'bin')
  const state = join(dir, 'state')
  const log = join(state, 'calls.log')
  mkdirSync(binDir, { recursive: true })
  mkdirSync(state, { recursive: true })
  writeFileSync(log, '')
  const tool = (name: string, body: string) => {
    const path = join(binDir, name)
    writeFileSync(path, `#!/usr/bin/env bash\nset -euo pipefail\nSTATE=${shellQuote(state)}\n${body}`)
    chmodSync(path, 0o755)
  }
  const logCall = (name: string) => `printf '%s\\n' "${name} $*" >> "$STATE/calls.log"\n`

  tool('countersign', `exec ${shellQuote(process.execPath)} ${shellQuote(cliMain)} "$@"\n`)

  tool(
    'npm',
    `${logCall('npm')}
case "$*" in
  "install -g countersign"|"install -g countersign@"*|"i -g countersign"|"i -g countersign@"*)
    echo "npm stand-in: countersign is this checkout's build, already on PATH" ;;
  *) echo "npm stand-in: only 'npm install -g countersign' is supported, not: npm $*" >&2; exit 1 ;;
esac
`,
  )

  tool(
    'docker',
    `${logCall('docker')}
config_dir="\${DOCKER_CONFIG:-$HOME/.docker}"
cmd="\${1:-}"; shift || true
case "$cmd" in
  login)
    user=""; pass=""; host=""; from_stdin=0
    while [ $# -gt 0 ]; do
      case "$1" in
        -u|--username) user="$2"; shift 2 ;;
        -p|--password) pass="$2"; shift 2 ;;
        --password-stdin) from_stdin=1; shift ;;
        *) host="$1"; shift ;;
      esac
    done
    if [ "$from_stdin" = 1 ]; then pass="$(cat)"; fi
    [ -n "$user" ] && [ -n "$pass" ] && [ -n "$host" ] || { echo "docker stand-in: login needs -u, a password and a registry" >&2; exit 1; }
    mkdir -p "$config_dir"
    [ -f "$config_dir/config.json" ] || echo '{}' > "$config_dir/config.json"
    auth="$(printf '%s:%s' "$user" "$pass" | base64 | tr -d '\\n')"
    jq --arg h "$host" --arg a "$auth" '.auths[$h] = {auth: $a}' "$config_dir/config.json" > "$config_dir/config.json.new"
    mv "$config_dir/config.json.new" "$config_dir/config.json"
    echo "Login Succeeded" ;;
  build)
    tags=()
    while [ $# -gt 0 ]; do
      case "$1" in
        -t|--tag) tags+=("$2"); shift 2 ;;
        *) shift ;;
      esac
    done
    [ "\${#tags[@]}" -gt 0 ] || { echo "docker stand-in: build needs -t" >&2; exit 1; }
    [ -f "$STATE/layout/index.json" ] || { echo "docker stand-in: no image prepared" >&2; exit 1; }
    for t in "\${tags[@]}"; do printf '%s\\n' "$t" >> "$STATE/built"; done ;;
  push)
    tag="$1"
    grep -qxF -- "$tag" "$STATE/built" 2>/dev/null || { echo "docker stand-in: $tag was not built" >&2; exit 1; }
    skopeo copy --quiet --preserve-digests --dest-tls-verify=false \\
      --dest-authfile "$config_dir/config.json" --digestfile "$STATE/digest" \\
      "oci:$STATE/layout:latest" "docker://$tag"
    digest="$(cat "$STATE/digest")"
    printf '%s %s@%s\\n' "$tag" "\${tag%:*}" "$digest" >> "$STATE/pushed"
    echo "\${tag##*:}: digest: $digest" ;;
  inspect)
    [ "$1" = "--format={{index .RepoDigests 0}}" ] || { echo "docker stand-in: inspect supports only --format='{{index .RepoDigests 0}}'" >&2; exit 1; }
    line="$(grep -F -- "$2 " "$STATE/pushed" | tail -n 1)"
    [ -n "$line" ] || { echo "docker stand-in: $2 was not pushed" >&2; exit 1; }
    echo "\${line#* }" ;;
  *) echo "docker stand-in: unsupported command: docker $cmd $*" >&2; exit 1 ;;
esac
`,
  )

  tool(
    'trivy',
    `${logCall('trivy')}
[ "\${1:-}" = image ] || { echo "trivy stand-in: only 'trivy image' is supported" >&2; exit 1; }
shift
format=""; output=""; image=""
while [ $# -gt 0 ]; do
  case "$1" in
    --format|-f) format="$2"; shift 2 ;;
    --output|-o) output="$2"; shift 2 ;;
    *) image="$1"; shift ;;
  esac
done
[ "$format" = cyclonedx ] && [ -n "$output" ] && [ -n "$image" ] || { echo "trivy stand-in: needs --format cyclonedx --output FILE IMAGE" >&2; exit 1; }
creds=()
if [ -n "\${TRIVY_USERNAME:-}" ]; then creds=(--creds "$TRIVY_USERNAME:$TRIVY_PASSWORD"); fi
digest="$(skopeo inspect --tls-verify=false "\${creds[@]}" --format '{{.Digest}}' "docker://$image")"
jq -n --arg name "\${image%@*}" --arg digest "$digest" '{
  bomFormat: "CycloneDX", specVersion: "1.5", version: 1,
  metadata: { component: { type: "container", name: $name, version: $digest } },
  components: [{ type: "file", name: "hello.txt" }]
}' > "$output"
`,
  )

  return {
    binDir,
    async prepareImage(text) {
      const img = await tinyImage(text)
      const layout = join(state, 'layout')
      rmSync(layout, { recursive: true, force: true })
      mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true })
      for (const blob of [img.layer, img.config, img.manifest]) {
        writeFileSync(join(layout, 'blobs', 'sha256', sha256(blob)), blob)
      }
      writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
      writeFileSync(
        join(layout, 'index.json'),
        JSON.stringify({
          schemaVersion: 2,
          manifests: [
            {
              mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
              digest: img.manifestDigest,
              size: img.manifest.length,
              annotations: { 'org.opencontainers.image.ref.name': 'latest' },
            },
          ],
        }),
      )
      return img.manifestDigest
    },
    calls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
        : [],
  }
}
