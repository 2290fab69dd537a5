import { DomainError, ErrorKind, ValidationError } from '@shoal/platform';

export enum TemplateErrorCode {
  NotFound = 'TEMPLATE_NOT_FOUND',
}

/** Every refusal of templates, one factory each; bad parameters are a ValidationError. */
export const TemplateError = {
  notFound: (templateId: string) =>
    new DomainError(ErrorKind.NotFound, TemplateErrorCode.NotFound, `no template "${templateId}"`),

  /** Parameters within their bounds that still make no valid rule. */
  unbuildable: (why: string) =>
    new ValidationError([{ field: 'parameters', description: `do not make a valid rule: ${why}` }]),
};
