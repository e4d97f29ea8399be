// The LanguageClient subclass the extension runs, and requests to the server's commands.
import * as vscode from 'vscode';
import {
  BaseLanguageClient,
  DynamicFeature,
  ExecuteCommandRequest,
  LanguageClient,
  StaticFeature,
} from 'vscode-languageclient/node';

import { CLIENT_OWNED_SERVER_COMMANDS } from './commands';
import { isBuiltinProgressFeature } from './progressRouter';

/**
 * A LanguageClient that (1) does not register client-side commands for the server commands
 * the extension owns (`agrippa.compile`, ...: registering a command twice throws) and (2)
 * replaces the built-in progress handling by AgrippaProgressFeature.
 */
export class AgrippaLanguageClient extends LanguageClient {
  public registerFeature(feature: StaticFeature | DynamicFeature<any>): void {
    if (isBuiltinProgressFeature(feature)) return;
    const f = feature as any;
    if (f.registrationType?.method === ExecuteCommandRequest.method && typeof f.register === 'function') {
      const register = f.register.bind(f);
      f.register = (data: any) =>
        register({
          ...data,
          registerOptions: {
            ...data.registerOptions,
            commands: (data.registerOptions?.commands ?? []).filter((c: string) => !CLIENT_OWNED_SERVER_COMMANDS.has(c)),
          },
        });
    }
    super.registerFeature(feature);
  }
}

/** `workspace/executeCommand` on the server; resolves with the command's result. */
export function executeOnServer<T>(
  client: BaseLanguageClient,
  command: string,
  args: unknown[],
  token?: vscode.CancellationToken,
): Promise<T> {
  return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }, token) as Promise<T>;
}
