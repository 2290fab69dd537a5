import { toJson } from '@bufbuild/protobuf';
import { useMutation, useQuery } from '@connectrpc/connect-query';
import {
  Button,
  Code,
  Grid,
  Loader,
  Paper,
  Radio,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { RuleSchema, type SegmentTemplate, SegmentService, Visibility } from '@shoal/contracts';
import { type FormEvent, useState } from 'react';
import { describeError } from '../api';
import { navigate } from '../router';
import { defaultText, templateInput } from '../segment-actions';
import { ErrorAlert } from './ErrorAlert';

/** Create a segment from one of the segments service's parameterised templates. */
export function NewFromTemplate() {
  const templates = useQuery(SegmentService.method.listTemplates, {});
  const [chosen, setChosen] = useState<string>();
  if (templates.isPending) return <Loader aria-label="Loading" />;
  if (templates.error) return <ErrorAlert error={templates.error} />;
  const template = templates.data.templates.find((t) => t.id === chosen);
  return (
    <Stack>
      <Title order={2}>New segment from a template</Title>
      <Grid>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <Radio.Group label="Template" value={chosen ?? null} onChange={setChosen}>
            <Stack gap="xs" mt="xs">
              {templates.data.templates.map((t) => (
                <Radio key={t.id} value={t.id} label={t.name} description={t.description} />
              ))}
            </Stack>
          </Radio.Group>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 7 }}>
          {template ? (
            <TemplateForm key={template.id} template={template} />
          ) : (
            <Text c="dimmed">Choose a template to fill in its parameters.</Text>
          )}
        </Grid.Col>
      </Grid>
    </Stack>
  );
}

function TemplateForm({ template }: { template: SegmentTemplate }) {
  const [name, setName] = useState(template.name);
  const [typed, setTyped] = useState<Record<string, string>>({});
  const [tried, setTried] = useState(false);
  const create = useMutation(SegmentService.method.createSegmentFromTemplate);
  const input = templateInput(template, typed);
  const serverViolations = create.error ? describeError(create.error).violations : [];
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    if (Object.keys(input.errors).length > 0) return;
    const { segment } = await create.mutateAsync({
      templateId: template.id,
      parameters: input.values,
      segment: { name, visibility: Visibility.SHARED },
    });
    if (segment) navigate(`/segments/${encodeURIComponent(segment.id)}`);
  };
  return (
    <Paper withBorder p="sm" component="section" aria-label="Template parameters">
      <form onSubmit={(e) => void submit(e).catch(() => undefined)}>
        <Stack>
          <TextInput
            label="Name"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            required
          />
          {template.parameters.map((p) => (
            <TextInput
              key={p.name}
              label={p.name}
              description={p.description}
              placeholder={defaultText(p)}
              required={p.defaultValue === undefined}
              value={typed[p.name] ?? ''}
              onChange={(e) => {
                const value = e.currentTarget.value;
                setTyped((t) => ({ ...t, [p.name]: value }));
              }}
              error={
                (tried ? input.errors[p.name] : undefined) ??
                serverViolations.find((v) => v.field.endsWith(p.name))?.description
              }
            />
          ))}
          <ErrorAlert error={create.error} />
          <Button type="submit" w="fit-content" loading={create.isPending} disabled={!name.trim()}>
            Create segment
          </Button>
          {template.example && (
            <>
              <Text size="sm">The rule with the default values:</Text>
              <Code block aria-label="Example rule">
                {JSON.stringify(toJson(RuleSchema, template.example), null, 2)}
              </Code>
            </>
          )}
        </Stack>
      </form>
    </Paper>
  );
}
