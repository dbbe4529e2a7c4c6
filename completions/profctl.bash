# bash completion for profctl (generated from the option specs; do not edit)
_profctl() {
  local cur prev words cword
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  local cmd=""
  local i
  for ((i=1; i<COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in -*) ;; *) cmd="${COMP_WORDS[i]}"; break ;; esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=( $(compgen -W 'top flame diff export record agent status trace slo demo completion help --no-color --version --help' -- "$cur") )
    return
  fi
  case "$cmd" in
    top)
      case "$prev" in
        -i|--input) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --input-format) COMPREPLY=( $(compgen -W 'pprof folded perf-script speedscope' -- "$cur") ); return ;;
        --store) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
        --since) return ;;
        --until) return ;;
        --service) return ;;
        --pid) return ;;
        --comm) return ;;
        --trace-id) return ;;
        --span-id) return ;;
        --spans) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --focus) return ;;
        --ignore) return ;;
        --tag) return ;;
        --sample-type) return ;;
        --sort) COMPREPLY=( $(compgen -W 'self total' -- "$cur") ); return ;;
        --limit) return ;;
        --by) COMPREPLY=( $(compgen -W 'function module thread' -- "$cur") ); return ;;
      esac
      COMPREPLY=( $(compgen -W '-i --input --input-format --store --since --until --service --pid --comm --trace-id --span-id --spans --include-ambiguous --focus --ignore --tag --sample-type --sort --limit --by --json --help' -- "$cur") )
      ;;
    flame)
      case "$prev" in
        -i|--input) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --input-format) COMPREPLY=( $(compgen -W 'pprof folded perf-script speedscope' -- "$cur") ); return ;;
        --store) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
        --since) return ;;
        --until) return ;;
        --service) return ;;
        --pid) return ;;
        --comm) return ;;
        --trace-id) return ;;
        --span-id) return ;;
        --spans) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --focus) return ;;
        --ignore) return ;;
        --tag) return ;;
        --sample-type) return ;;
        -f|--format) COMPREPLY=( $(compgen -W 'text svg html folded pprof speedscope json' -- "$cur") ); return ;;
        -o|--output) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --width) return ;;
        --baseline) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --title) return ;;
      esac
      COMPREPLY=( $(compgen -W '-i --input --input-format --store --since --until --service --pid --comm --trace-id --span-id --spans --include-ambiguous --focus --ignore --tag --sample-type -f --format -o --output --width --baseline --inverted --no-interactive --title --help' -- "$cur") )
      ;;
    diff)
      case "$prev" in
        --baseline) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        -i|--input) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --input-format) COMPREPLY=( $(compgen -W 'pprof folded perf-script speedscope' -- "$cur") ); return ;;
        --store) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
        --since) return ;;
        --until) return ;;
        --service) return ;;
        --pid) return ;;
        --comm) return ;;
        --trace-id) return ;;
        --span-id) return ;;
        --spans) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --focus) return ;;
        --ignore) return ;;
        --tag) return ;;
        --sample-type) return ;;
        --fail-on-regression) return ;;
        -f|--format) COMPREPLY=( $(compgen -W 'table markdown' -- "$cur") ); return ;;
        --limit) return ;;
      esac
      COMPREPLY=( $(compgen -W '--baseline -i --input --input-format --store --since --until --service --pid --comm --trace-id --span-id --spans --include-ambiguous --focus --ignore --tag --sample-type --fail-on-regression -f --format --limit --json --help' -- "$cur") )
      ;;
    export)
      case "$prev" in
        -i|--input) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --input-format) COMPREPLY=( $(compgen -W 'pprof folded perf-script speedscope' -- "$cur") ); return ;;
        --store) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
        --since) return ;;
        --until) return ;;
        --service) return ;;
        --pid) return ;;
        --comm) return ;;
        --trace-id) return ;;
        --span-id) return ;;
        --spans) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --focus) return ;;
        --ignore) return ;;
        --tag) return ;;
        --sample-type) return ;;
        -f|--format) COMPREPLY=( $(compgen -W 'pprof folded speedscope' -- "$cur") ); return ;;
        -o|--output) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
      esac
      COMPREPLY=( $(compgen -W '-i --input --input-format --store --since --until --service --pid --comm --trace-id --span-id --spans --include-ambiguous --focus --ignore --tag --sample-type -f --format -o --output --tid --kernel --jit --all --addrs --help' -- "$cur") )
      ;;
    record)
      case "$prev" in
        -d|--duration) return ;;
        --hz) return ;;
        -p|--pid) return ;;
        -o|--output) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --engine) COMPREPLY=( $(compgen -W 'auto bpf perf' -- "$cur") ); return ;;
        --store) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
      esac
      COMPREPLY=( $(compgen -W '-d --duration --hz -p --pid -o --output --engine --store --help' -- "$cur") )
      [[ "$cur" != -* ]] && COMPREPLY+=( $(compgen -c -- "$cur") )
      ;;
    agent)
      case "$prev" in
        --store) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
        --hz) return ;;
        --flush) return ;;
        --max-size) return ;;
        --retention) return ;;
        --engine) COMPREPLY=( $(compgen -W 'auto bpf perf' -- "$cur") ); return ;;
        --otlp) return ;;
      esac
      COMPREPLY=( $(compgen -W '--store --hz --flush --max-size --retention --engine --otlp -q --quiet --help' -- "$cur") )
      ;;
    status)
      case "$prev" in
        --store) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
      esac
      COMPREPLY=( $(compgen -W '--store --json --help' -- "$cur") )
      ;;
    trace)
      case "$prev" in
        --store) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
        --since) return ;;
        --until) return ;;
        -i|--input) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --input-format) COMPREPLY=( $(compgen -W 'pprof folded perf-script speedscope' -- "$cur") ); return ;;
        --service) return ;;
        --spans) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --min-duration) return ;;
        --limit) return ;;
      esac
      COMPREPLY=( $(compgen -W '--store --since --until -i --input --input-format --service --spans --min-duration --slowest --limit --include-ambiguous --json --help' -- "$cur") )
      ;;
    slo)
      case "$prev" in
        -c|--config) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --store) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
        --spans) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --watch) return ;;
      esac
      COMPREPLY=( $(compgen -W '-c --config --store --spans --watch --json --help' -- "$cur") )
      ;;
    demo)
      case "$prev" in
        -d|--duration) return ;;
        --store) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
      esac
      COMPREPLY=( $(compgen -W '-d --duration --keep --store --json --help' -- "$cur") )
      ;;
    completion)
      case "$prev" in
      esac
      COMPREPLY=( $(compgen -W '--help bash zsh fish' -- "$cur") )
      ;;
  esac
}
complete -F _profctl profctl
