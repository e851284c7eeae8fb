/** Whether an answer to a yes/no question is yes: `y` or `yes`, in any case; anything else (an empty line too) is no. */
export function isYes(answer: string): boolean {
  return /^\s*y(?:es)?\s*$/i.test(answer);
}

/** Whether a person can be asked: stdin is a terminal. */
export function canAsk(stdin: { isTTY?: boolean } = process.stdin): boolean {
  return stdin.isTTY === true;
}

/** Asks `question` on stderr and reads one line from the terminal; true for yes. */
export async function ask(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    // End of input (Ctrl-D) closes the interface without an answer: no.
    return await new Promise<boolean>((resolve) => {
      rl.once('close', () => resolve(false));
      rl.question(question).then(
        (answer) => resolve(isYes(answer)),
        () => resolve(false),
      );
    });
  } finally {
    rl.close();
  }
}
