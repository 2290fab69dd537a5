import { Module } from '@nestjs/common';
import { ConsoleHttpServer } from './http/console-http.server';
import { SessionsModule } from './sessions/sessions.module';

/** The console service: sessions, and the HTTP server for the web app and its Connect calls. */
@Module({
  imports: [SessionsModule],
  providers: [ConsoleHttpServer],
})
export class AppModule {}
