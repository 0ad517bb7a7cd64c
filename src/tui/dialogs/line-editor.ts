/** The small line editor of the filter and the command line: type, Backspace, Ctrl-U, Ctrl-W. */
export function editLine(text: string, key: string): string | null {
  if (key === 'backspace') return text.slice(0, -1);
  if (key === 'C-u') return '';
  if (key === 'C-w') return text.replace(/\S*\s*$/, '');
  if (key === 'space') return text + ' ';
  if (key.length === 1 && key >= ' ') return text + key;
  return null;
}
