import {
  type DescFile,
  type DescMessage,
  type DescService,
  fromBinary,
  toBinary,
} from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

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

export function methodPath(service: DescService, methodName: string): string {
  return `/${service.typeName}/${methodName}`;
}

export function encoder(schema: DescMessage) {
  return (message: unknown) => Buffer.from(toBinary(schema, message as never));
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
