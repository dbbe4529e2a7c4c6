// Shell completion scripts for bash, zsh and fish, generated from the option
// specs in src/commands/spec.ts. The checked-in files under completions/ are
// this module's output; test/cli/docs-drift.test.ts fails when they differ.
import { commands, globalOptions, longFlag, takesValue, type OptionSpec } from '../commands/spec.js';

function shortName(flags: string): string | undefined {
  return /(?:^|\s)-([a-zA-Z])\b/.exec(flags)?.[1];
}

function flagWords(o: OptionSpec): string[] {
  const words = [longFlag(o.flags)];
  const s = shortName(o.flags);
  if (s) words.unshift(`-${s}`);
  return words;
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function bashCompletion(): string {
  const lines: string[] = [];
  lines.push('# bash completion for profctl (generated from the option specs; do not edit)');
  lines.push('_profctl() {');
  lines.push('  local cur prev words cword');
  lines.push('  cur="${COMP_WORDS[COMP_CWORD]}"');
  lines.push('  prev="${COMP_WORDS[COMP_CWORD-1]}"');
  lines.push('  local cmd=""');
  lines.push('  local i');
  lines.push('  for ((i=1; i<COMP_CWORD; i++)); do');
  lines.push('    case "${COMP_WORDS[i]}" in -*) ;; *) cmd="${COMP_WORDS[i]}"; break ;; esac');
  lines.push('  done');
  lines.push('  if [[ -z "$cmd" ]]; then');
  lines.push(`    COMPREPLY=( $(compgen -W ${shq([...commands.map((c) => c.name), 'help', ...globalOptions.flatMap(flagWords), '--version', '--help'].join(' '))} -- "$cur") )`);
  lines.push('    return');
  lines.push('  fi');
  lines.push('  case "$cmd" in');
  for (const c of commands) {
    lines.push(`    ${c.name})`);
    lines.push('      case "$prev" in');
    for (const o of c.options) {
      if (!takesValue(o.flags)) continue;
      const pat = flagWords(o).join('|');
      if (o.choices) lines.push(`        ${pat}) COMPREPLY=( $(compgen -W ${shq(o.choices.join(' '))} -- "$cur") ); return ;;`);
      else if (o.complete === 'file') lines.push(`        ${pat}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;`);
      else if (o.complete === 'dir') lines.push(`        ${pat}) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;`);
      else lines.push(`        ${pat}) return ;;`);
    }
    lines.push('      esac');
    const words = [...c.options.flatMap(flagWords), '--help'];
    if (c.name === 'completion') words.push('bash', 'zsh', 'fish');
    lines.push(`      COMPREPLY=( $(compgen -W ${shq(words.join(' '))} -- "$cur") )`);
    if (c.args?.includes('command')) lines.push('      [[ "$cur" != -* ]] && COMPREPLY+=( $(compgen -c -- "$cur") )');
    lines.push('      ;;');
  }
  lines.push('  esac');
  lines.push('}');
  lines.push('complete -F _profctl profctl');
  return lines.join('\n') + '\n';
}

function zshEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/'/g, `'\\''`).replace(/\[/g, '\\[').replace(/\]/g, '\\]').replace(/:/g, '\\:');
}

export function zshCompletion(): string {
  const lines: string[] = [];
  lines.push('#compdef profctl');
  lines.push('# zsh completion for profctl (generated from the option specs; do not edit)');
  lines.push('');
  lines.push('_profctl() {');
  lines.push('  local -a subcmds');
  lines.push('  subcmds=(');
  for (const c of commands) lines.push(`    '${c.name}:${zshEscape(c.summary)}'`);
  lines.push('  )');
  lines.push('  if (( CURRENT == 2 )); then');
  lines.push("    _describe -t commands 'profctl command' subcmds");
  lines.push('    return');
  lines.push('  fi');
  lines.push('  local cmd=${words[2]}');
  lines.push('  shift words; (( CURRENT-- ))');
  lines.push('  case $cmd in');
  for (const c of commands) {
    lines.push(`    ${c.name})`);
    const specs: string[] = [];
    for (const o of c.options) {
      const names = flagWords(o);
      const rep = o.repeatable ? '*' : '';
      const desc = zshEscape(o.description);
      let action = '';
      if (takesValue(o.flags)) {
        const arg = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? 'value';
        if (o.choices) action = `:${arg}:(${o.choices.join(' ')})`;
        else if (o.complete === 'file') action = `:${arg}:_files`;
        else if (o.complete === 'dir') action = `:${arg}:_files -/`;
        else action = `:${arg}: `;
      }
      for (const n of names) specs.push(`'${rep}${n}[${desc}]${action}'`);
    }
    if (c.name === 'completion') specs.push("'1:shell:(bash zsh fish)'");
    if (c.args?.includes('command')) specs.push("'*::command:_normal'");
    lines.push(`      _arguments -s ${specs.join(' \\\n        ')}`);
    lines.push('      ;;');
  }
  lines.push('  esac');
  lines.push('}');
  lines.push('');
  lines.push('_profctl "$@"');
  return lines.join('\n') + '\n';
}

function fishEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
}

export function fishCompletion(): string {
  const lines: string[] = [];
  lines.push('# fish completion for profctl (generated from the option specs; do not edit)');
  const names = commands.map((c) => c.name).join(' ');
  lines.push(`complete -c profctl -f -n 'not __fish_seen_subcommand_from ${names}' -a '${names}'`);
  for (const c of commands) {
    lines.push(`complete -c profctl -f -n 'not __fish_seen_subcommand_from ${names}' -a ${c.name} -d '${fishEscape(c.summary)}'`);
  }
  for (const c of commands) {
    for (const o of c.options) {
      const parts = [`complete -c profctl -n '__fish_seen_subcommand_from ${c.name}'`];
      const s = shortName(o.flags);
      if (s) parts.push(`-s ${s}`);
      parts.push(`-l ${longFlag(o.flags).slice(2)}`);
      if (takesValue(o.flags)) {
        if (o.choices) parts.push(`-x -a '${o.choices.join(' ')}'`);
        else if (o.complete === 'file' || o.complete === 'dir') parts.push('-r -F');
        else parts.push('-x');
      }
      parts.push(`-d '${fishEscape(o.description)}'`);
      lines.push(parts.join(' '));
    }
    if (c.name === 'completion') lines.push(`complete -c profctl -f -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'`);
  }
  return lines.join('\n') + '\n';
}

export function completionScript(shell: string): string | undefined {
  if (shell === 'bash') return bashCompletion();
  if (shell === 'zsh') return zshCompletion();
  if (shell === 'fish') return fishCompletion();
  return undefined;
}
