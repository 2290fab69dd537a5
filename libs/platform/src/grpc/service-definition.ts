import {
  type DescFile,
  type DescMessage,
  type DescMethod,
  type DescService,
  createFileRegistry,
  fromBinary,
  toBinary,
} from '@bufbuild/protobuf';
import { type DescriptorProto, FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { DECODE_DEPTH_LIMIT, pathNestedTooDeep } from './nesting';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { ValidationError } from '../errors/domain-error';

/**
 * A grpc-js service definition derived from a protobuf-es service descriptor. Requests reach
 * the server undecoded (the handler wrapper decodes them, so a malformed request is
 * INVALID_ARGUMENT rather than a transport error); responses are encoded here.
 */
export function serverDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<Buffer, unknown>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: methodPath(service, method.name),
      originalName: method.name,
      requestStream:
        method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream:
        method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: (bytes: Buffer) => bytes,
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: encoder(method.output),
      responseDeserialize: decoder(method.output),
    };
  }
  return definition as ServiceDefinition;
}

/** A request's bytes as its message; bytes that are not one are INVALID_ARGUMENT. */
export function decodeRequest(method: DescMethod, bytes: Uint8Array) {
  try {
    return fromBinary(method.input, bytes, { recursionLimit: DECODE_DEPTH_LIMIT });
  } catch {
    const tooDeep = pathNestedTooDeep(method.input, bytes);
    throw new ValidationError([
      tooDeep === undefined
        ? { field: '', description: `request is not a valid ${method.input.typeName} message` }
        : {
            field: tooDeep,
            description: `is nested more than ${DECODE_DEPTH_LIMIT} messages deep`,
          },
    ]);
  }
}

export function methodPath(service: DescService, methodName: string): string {
  return `/${service.typeName}/${methodName}`;
}

/** Encodes a message; the Buffer shares the fresh bytes toBinary made rather than copying them. */
export function encoder(schema: DescMessage) {
  return (message: unknown) => {
    const bytes = toBinary(schema, message as never);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

export function decoder(schema: DescMessage) {
  return (bytes: Buffer) => fromBinary(schema, bytes);
}

/**
 * The shape @grpc/reflection reads (a proto-loader package definition): for each file the
 * serialized FileDescriptorProtos of it and everything it imports.
 */
export function reflectionPackageDefinition(services: readonly DescService[]) {
  const files = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (files.has(file.name)) return;
    files.set(file.name, file);
    file.dependencies.forEach(visit);
  };
  services.forEach((s) => visit(s.file));
  const definition: Record<string, { fileDescriptorProtos: Buffer[] }> = {};
  for (const [name, file] of files) {
    definition[name] = {
      fileDescriptorProtos: [Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto))],
    };
  }
  return definition;
}

/** The standard grpc.health.v1 service, described for reflection with canonical descriptors. */
export function healthReflectionDefinition() {
  const definition: Record<string, { fileDescriptorProtos: Buffer[] }> = {};
  for (const [name, entry] of Object.entries(loadSync(healthProtoPath))) {
    const files = (entry as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos;
    if (files)
      definition[name] = { fileDescriptorProtos: files.map((bytes) => canonicalDescriptor(bytes)) };
  }
  return definition;
}

/**
 * The standard grpc.health.v1.Health service as a protobuf-es descriptor, built from the proto
 * grpc-health-check serves, so tools driven by descriptors (clients, the fuzz harness) treat it
 * like Shoal's own services.
 */
export function healthServiceDescriptor(): DescService {
  const registry = createFileRegistry(
    ...Object.values(healthReflectionDefinition()).flatMap(({ fileDescriptorProtos }) =>
      fileDescriptorProtos.map((bytes) =>
        createFileRegistry(fromBinary(FileDescriptorProtoSchema, bytes), () => undefined),
      ),
    ),
  );
  const service = registry.getService('grpc.health.v1.Health');
  if (!service) throw new Error('grpc-health-check ships no grpc.health.v1.Health');
  return service;
}

/**
 * Descriptors as protoc writes them, for descriptors @grpc/proto-loader produced (the standard
 * health service's): map-entry types named "<Field>Entry" and type references fully qualified.
 * Strict reflection clients (grpcurl, protobuf-go) refuse the loader's own naming.
 */
export function canonicalDescriptor(bytes: Uint8Array): Buffer {
  const file = fromBinary(FileDescriptorProtoSchema, bytes);
  const packageScope = file.package ? `.${file.package}` : '';
  const messages = walk(file.messageType, packageScope);
  for (const { message, scope } of messages) renameMapEntries(message, scope);
  const declared = new Set([
    ...walk(file.messageType, packageScope).flatMap(({ message, scope }) => [
      `${scope}.${message.name}`,
      ...message.enumType.map((e) => `${scope}.${message.name}.${e.name}`),
    ]),
    ...file.enumType.map((e) => `${packageScope}.${e.name}`),
  ]);
  const resolve = (name: string, scope: string) => {
    if (name.startsWith('.')) return name;
    for (let at = scope; at.length >= packageScope.length; at = at.slice(0, at.lastIndexOf('.'))) {
      if (declared.has(`${at}.${name}`)) return `${at}.${name}`;
      if (at === packageScope) break;
    }
    return `${packageScope}.${name}`;
  };
  for (const { message, scope } of walk(file.messageType, packageScope)) {
    for (const field of message.field) {
      if (field.typeName) field.typeName = resolve(field.typeName, `${scope}.${message.name}`);
    }
  }
  for (const method of file.service.flatMap((service) => service.method)) {
    method.inputType = resolve(method.inputType, packageScope);
    method.outputType = resolve(method.outputType, packageScope);
  }
  return Buffer.from(toBinary(FileDescriptorProtoSchema, file));
}

/** Every message of a file with the scope it is declared in (its parent's full name). */
function walk(
  messages: readonly DescriptorProto[],
  scope: string,
): { message: DescriptorProto; scope: string }[] {
  return messages.flatMap((message) => [
    { message, scope },
    ...walk(message.nestedType, `${scope}.${message.name}`),
  ]);
}

function renameMapEntries(message: DescriptorProto, scope: string): void {
  const own = `${scope}.${message.name}`;
  for (const entry of message.nestedType.filter((nested) => nested.options?.mapEntry)) {
    const field = message.field.find(
      (f) => f.typeName === entry.name || f.typeName === `${own}.${entry.name}`,
    );
    if (!field) continue;
    entry.name = `${field.name.replace(/(^|_)([a-z])/g, (_, __: string, c: string) => c.toUpperCase())}Entry`;
    field.typeName = `${own}.${entry.name}`;
  }
}
