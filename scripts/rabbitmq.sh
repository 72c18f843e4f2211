#!/usr/bin/env bash
# A local RabbitMQ for development.
#   rabbitmq.sh install   install Debian's rabbitmq-server if it is missing (the tests need it)
#   rabbitmq.sh start     make sure a broker answers on 127.0.0.1:$PIGEONTOOLS_RABBITMQ_PORT (5672):
#                         keep one that is running, else docker compose (with a Docker engine),
#                         else a private node from the rabbitmq-server package under .cache/
#   rabbitmq.sh stop      stop the broker that `start` began (compose service, or private node and epmd)
set -euo pipefail
cd "$(dirname "$0")/.."

port=${PIGEONTOOLS_RABBITMQ_PORT:-5672}
tls_port=${PIGEONTOOLS_RABBITMQ_TLS_PORT:-5671}
node=pigeon-local
base=$PWD/.cache/rabbitmq
server=/usr/lib/rabbitmq/bin/rabbitmq-server
ctl=/usr/lib/rabbitmq/bin/rabbitmqctl

say() { echo "rabbitmq: $*" >&2; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

# A RabbitMQ node answers the AMQP 0-9-1 protocol header with a method frame (type 1):
# Connection.Start. Anything else on the port is not a broker Pigeon can use.
amqp_answers() {
  local first
  first=$(timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "AMQP\0\0\x09\x01" >&3
    head -c 1 <&3 | od -An -tx1' _ "$port" 2>/dev/null | tr -d ' \n')
  [ "$first" = 01 ]
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else say "need root to run: $*"; exit 1
  fi
}

install() {
  [ -x "$server" ] && return 0
  say "installing Debian's rabbitmq-server (apt-get)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  # policy-rc.d may forbid starting the service (containers): that is fine, we start our own.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >&2
}

# A TLS listener too (amqps, as Amazon MQ requires), with a local CA: .cache/rabbitmq/tls/ca.pem.
tls_config() {
  command -v openssl >/dev/null 2>&1 || { say "no openssl: the node gets no TLS listener"; return 0; }
  local tls=$base/tls
  if [ ! -f "$tls/server.pem" ]; then
    mkdir -p "$tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj "/CN=pigeon local CA" -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
      -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$tls/san.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
      -CAcreateserial -days 3650 -extfile "$tls/san.ext" -out "$tls/server.pem" 2>/dev/null
    chmod 644 "$tls/server.key"
  fi
  cat > "$base/rabbitmq.conf" <<CONF
listeners.ssl.default = $tls_port
ssl_options.cacertfile = $tls/ca.pem
ssl_options.certfile = $tls/server.pem
ssl_options.keyfile = $tls/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
CONF
  export RABBITMQ_CONFIG_FILE=$base/rabbitmq.conf
}

node_env() {
  export RABBITMQ_NODENAME=$node@localhost RABBITMQ_NODE_PORT=$port \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_DIST_PORT=$((port + 20000)) \
    RABBITMQ_MNESIA_BASE=$base/mnesia RABBITMQ_LOG_BASE=$base/log \
    RABBITMQ_ENABLED_PLUGINS_FILE=$base/enabled_plugins RABBITMQ_PID_FILE=$base/node.pid \
    HOME=${HOME:-$base}
}

docker_engine() { command -v docker >/dev/null 2>&1 && timeout 15 docker info >/dev/null 2>&1; }

start() {
  if listening; then
    if amqp_answers; then say "a broker is already listening on 127.0.0.1:$port; using it"; return 0; fi
    say "port $port on 127.0.0.1 is taken by something that is not a RabbitMQ broker"
    say "(it did not answer the AMQP 0-9-1 handshake). Stop it, or pick another port:"
    say "  PIGEONTOOLS_RABBITMQ_PORT=$((port + 1)) make run"
    exit 1
  fi
  if docker_engine && [ "${PIGEONTOOLS_LOCAL_BROKER:-}" != "package" ]; then
    say "starting the rabbitmq service of docker-compose.yml"
    docker compose up -d --wait rabbitmq >&2
    return 0
  fi
  install
  mkdir -p "$base/mnesia" "$base/log"
  [ -f "$base/enabled_plugins" ] || echo '[].' > "$base/enabled_plugins"
  node_env
  tls_config
  say "starting a private node $node on 127.0.0.1:$port, TLS on $tls_port (data in .cache/rabbitmq; stop: make broker-stop)"
  nohup "$server" > "$base/log/console.log" 2>&1 &
  for _ in $(seq 1 120); do
    if listening; then say "ready"; return 0; fi
    sleep 0.5
  done
  say "the node did not start in 60 s; see $base/log/"
  tail -20 "$base/log/console.log" >&2 || true
  exit 1
}

stop() {
  if docker_engine && [ -n "$(docker compose ps -q rabbitmq 2>/dev/null)" ]; then
    docker compose stop rabbitmq >&2
    say "stopped the docker compose rabbitmq service"
    return 0
  fi
  if [ -f "$base/node.pid" ] && [ -x "$ctl" ]; then
    node_env
    "$ctl" -n "$node@localhost" stop "$base/node.pid" >&2 2>&1 || true
    say "stopped $node"
  else
    say "no private node to stop"
  fi
  # epmd outlives the node; end it by its PID, unless another Erlang node still needs it.
  sleep 1
  if ! pgrep -x beam.smp >/dev/null; then
    for pid in $(pgrep -x epmd); do kill "$pid" 2>/dev/null || true; done
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
