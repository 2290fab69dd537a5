import { Alert, type AlertProps } from '@mantine/core';
import { describeError } from '../api';

/** What went wrong with a call, in words; nothing while nothing did. */
export function ErrorAlert({
  error,
  ...props
}: { error: unknown } & Omit<AlertProps, 'children' | 'color'>) {
  if (!error) return null;
  return (
    <Alert color="red" role="alert" {...props}>
      {describeError(error).message}
    </Alert>
  );
}
